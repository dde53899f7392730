"""``python -m partitiond``: the partition process started by prtosd."""

import sys

from partitiond.process import main

sys.exit(main())
