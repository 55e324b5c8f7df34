# exit3.py - the config stops itself with sys.exit(3).
import sys

sys.exit(3)
