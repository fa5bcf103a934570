"""Catalog data, loaded and checked: deployment options and jurisdiction groups
(``options``); models, GPUs, servers, prices, electricity, opex and currency
rates (``costdata``)."""
