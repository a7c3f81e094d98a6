from prosper_mock.cli import main

raise SystemExit(main())
