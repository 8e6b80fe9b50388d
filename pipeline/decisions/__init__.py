"""The decision layer: what order history says about tomorrow (docs/decisions.md).

Demand per SKU and warehouse from both storage tiers, its forecast, the stock-out risk it implies,
transfer suggestions along the seller's lanes, and a replay of routing with a candidate config. All of
it reads; nothing here reserves, moves or sends anything.
"""
