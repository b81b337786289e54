"""The programs: one rung above the library. Each ``tinyad`` subcommand is a thin command
(argparse, checks, an output folder) over library calls:

    compare       train one model with several learning rules and compare them
    bench         the runtime ratios of "Gradients without Backpropagation"
    walkthrough   linear regression by hand, one mini-batch at a time

Each command module has ``add_arguments(parser)`` and ``run(args)``; ``tinyad.cli`` wires them up.
What they share: ``checks`` (argument types and the checks made before any work starts; a failed
check is a ``UsageError``, one line on stderr and exit code 2), ``machine`` (the record of where a
number was measured; BLAS and Numba threads; the allocator), ``results`` (the JSON + markdown
writer), ``timing`` (interleaved medians), ``plotting`` (matplotlib, headless). The bench/ scripts
use the same modules.
"""

COMMANDS = {
    "compare": ("tinyad.commands.compare",
                "train one model with several learning rules and compare them"),
    "bench": ("tinyad.commands.bench",
              "runtime ratios of forward-gradient and backprop steps to a forward pass"),
    "walkthrough": ("tinyad.commands.walkthrough",
                    "step-by-step linear regression: predictions, residuals, gradients, updates"),
}
