#!/usr/bin/env python3
"""Entry point: ``python run_optimizer.py [run|validate|template|compare|sweep] ...``.

With no arguments it solves inputs/base_case.xlsx and writes outputs/base_case_results.xlsx.
"""
import sys

from model.cli import main

if __name__ == "__main__":
    sys.exit(main())
