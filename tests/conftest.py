pytest_plugins = [
    "tests.fixtures.services",
    "tests.fixtures.apps",
    "tests.fixtures.sandbox",
    "tests.fixtures.peppol",
    "tests.fixtures.contract",
]
