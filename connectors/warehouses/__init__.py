"""Warehouse connectors (WMS APIs of overseas-warehouse 3PLs), one package per kind, and their registry."""
