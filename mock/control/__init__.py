"""The control API (``/__mock/...``): its routes, its client and its OpenAPI document."""
