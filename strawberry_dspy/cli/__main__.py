import sys

from strawberry_dspy.cli import main

sys.exit(main())
