from coopkit.cli import main

main()
