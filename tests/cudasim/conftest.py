"""Simulator tests run only in their own process: tests/test_cudasim.py starts
``python -m pytest tests/cudasim`` with NUMBA_ENABLE_CUDASIM=1 in its environment, so Numba reads
it before its first import. In any other run these files are not even collected: importing them
would load numba.cuda into a process that did not ask for the simulator.
"""
import os

SIMULATED = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"
collect_ignore_glob = [] if SIMULATED else ["test_*.py"]
