from policygen.cli import run

run()
