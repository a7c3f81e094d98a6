"""prosper_contracts: the contract kit of the Prosper Voice live-calls endpoint.

The rules an answer must keep (``check_answer``, ``RULES``), what a run found
(``Finding``), the spec the suites check against (``contract_document``) and the
schemathesis checks that apply the rules. The public names are listed once, in
``__init__.pyi``; they load on first use, so the pytest plugin, which imports this
package in every pytest run of a project that installed the kit, pays for none of them.
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
