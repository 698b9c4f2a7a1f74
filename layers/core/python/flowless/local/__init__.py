"""The local stack behind `flowless dev` and the tests: template reading, resources on moto, the gateway.

Dev-only: nothing in a deployed function imports this package.
"""
