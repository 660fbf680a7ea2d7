from carebird.cli.main import main

main()
