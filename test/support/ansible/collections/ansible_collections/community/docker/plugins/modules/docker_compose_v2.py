#!/usr/bin/python
# Test stub for node-red-contrib-opea: Debian's community.docker (3.4.7) predates docker_compose_v2
# (added in 3.6.0). This declares the documented options the generated roles use, so ansible-lint
# checks their arguments; it never runs anything.
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: docker_compose_v2
short_description: Test stub of community.docker.docker_compose_v2 (argument spec only)
description: Declares the documented options; performs no action.
options:
  project_src:
    description: Path to a directory containing a compose file.
    type: path
  project_name:
    description: Compose project name.
    type: str
  files:
    description: Compose files to use instead of the default ones.
    type: list
    elements: path
  env_files:
    description: Environment files to use.
    type: list
    elements: path
  profiles:
    description: Profiles to enable.
    type: list
    elements: str
  state:
    description: Desired state of the project.
    type: str
    default: present
    choices: [absent, stopped, restarted, present]
  pull:
    description: Whether to pull images before running.
    type: str
    default: policy
    choices: [always, missing, never, policy]
  build:
    description: Whether to build images before running.
    type: str
    default: policy
    choices: [always, never, policy]
  dependencies:
    description: Whether to also start dependencies of the listed services.
    type: bool
    default: true
  recreate:
    description: When to recreate containers.
    type: str
    default: auto
    choices: [always, never, auto]
  remove_orphans:
    description: Remove containers for services not defined in the compose file.
    type: bool
    default: false
  remove_volumes:
    description: Remove named and anonymous volumes on absent.
    type: bool
    default: false
  services:
    description: Services to operate on.
    type: list
    elements: str
  timeout:
    description: Shutdown timeout in seconds.
    type: int
  wait:
    description: Wait for services to be running or healthy.
    type: bool
    default: false
  wait_timeout:
    description: Maximum seconds to wait with I(wait).
    type: int
"""

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(
        argument_spec=dict(
            project_src=dict(type="path"),
            project_name=dict(type="str"),
            files=dict(type="list", elements="path"),
            env_files=dict(type="list", elements="path"),
            profiles=dict(type="list", elements="str"),
            state=dict(type="str", default="present", choices=["absent", "stopped", "restarted", "present"]),
            pull=dict(type="str", default="policy", choices=["always", "missing", "never", "policy"]),
            build=dict(type="str", default="policy", choices=["always", "never", "policy"]),
            dependencies=dict(type="bool", default=True),
            recreate=dict(type="str", default="auto", choices=["always", "never", "auto"]),
            remove_orphans=dict(type="bool", default=False),
            remove_volumes=dict(type="bool", default=False),
            services=dict(type="list", elements="str"),
            timeout=dict(type="int"),
            wait=dict(type="bool", default=False),
            wait_timeout=dict(type="int"),
        ),
        required_one_of=[("project_src", "project_name")],
        supports_check_mode=True,
    )
    module.fail_json(msg="test stub of community.docker.docker_compose_v2: it cannot run")


if __name__ == "__main__":
    main()
