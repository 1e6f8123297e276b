from dsc.commands import main

main()
