"""prosper-voice-mock: a mock of the Prosper Voice API, with a seeded world.

The public names are listed once, in ``__init__.pyi``; they load on first use, so the
pytest plugins, which import this package in every session of a project that installed
the kit, do not pay for aiohttp, openapi-core and faker until a mock is started.
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
