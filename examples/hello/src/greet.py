"""Greets someone: the smallest program worth a pipeline."""
import argparse


def greeting(name: str) -> str:
    return f"Hello, {name}!"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--name", default="world")
    print(greeting(parser.parse_args().name))


if __name__ == "__main__":
    main()
