"""The world a mock serves: records, stores, lookup, clock, simulation, generation, state file.

This layer knows nothing of HTTP: it imports neither aiohttp nor pytest.
"""
