"""``python -m labelmill``: the ``labelmill`` command (see :mod:`labelmill.cli`)."""

from labelmill.cli import main

if __name__ == "__main__":  # pragma: no cover - run by ``python -m labelmill``
    main()
