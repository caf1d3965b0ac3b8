from namelang.cli.app import main

main()
