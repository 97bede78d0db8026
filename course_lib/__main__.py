"""Command line: ``python -m course_lib validate [--algorithm NAME] [--steps N]``."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = {"validate": "compare every optimizer with torch.optim (and the Keras convention "
                            "with Keras 3) and print the tables"}
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in commands:
        print("usage: python -m course_lib COMMAND [options]\n\ncommands:")
        for name, text in commands.items():
            print(f"  {name:10s} {text}")
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    from course_lib import validation

    return validation.main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
