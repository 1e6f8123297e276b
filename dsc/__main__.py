from dsc.cli import main

main()
