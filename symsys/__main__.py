from symsys.cli import main

raise SystemExit(main())
