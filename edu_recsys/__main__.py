import sys

from edu_recsys.cli import main

sys.exit(main())
