"""The ``prosper-mock`` subcommands of the contract kit: ``contract``, ``proxy``, ``spec``.

``prosper-mock`` finds them through the entry-point group ``prosper_mock.commands``
(pyproject.toml); each module's ``add_*`` adds its parser, and imports only what parsing
needs, so the commands are listed even where the contracts extra is not installed.
"""
