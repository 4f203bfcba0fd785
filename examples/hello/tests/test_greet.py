from greet import greeting


def test_greets_by_name():
    assert greeting("Tauon") == "Hello, Tauon!"


def test_greets_the_world():
    assert greeting("world") == "Hello, world!"
