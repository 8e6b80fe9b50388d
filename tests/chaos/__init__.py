"""The chaos run: the whole Orderhub world under worker kills, a Redis crash, platform and warehouse
faults and forged webhooks, then an exact ledger of every order (see runner.py and accounting.py).
"""
