"""The ``prosper-mock`` subcommands of the contract kit: ``contract``, ``proxy``, ``spec``.

``prosper-mock`` finds them through the entry-point group ``prosper_mock.commands``
(pyproject.toml); each module's ``add_*`` adds its parser. None of them imports the
contracts extra (pytest, schemathesis, hypothesis, requests) until it runs, so the commands
are listed, and ``proxy`` and ``spec`` work, where the extra is not installed.
"""
