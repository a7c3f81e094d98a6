from prosper_mock.cli.commands import main

raise SystemExit(main())
