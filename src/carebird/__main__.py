from carebird.cli import main

main()
