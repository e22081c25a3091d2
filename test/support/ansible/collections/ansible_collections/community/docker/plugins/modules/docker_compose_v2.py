#!/usr/bin/python
# Test stub for node-red-contrib-opea, written for this project (no upstream code).
#
# Debian 12's community.docker (3.4.7) predates docker_compose_v2 (added in 3.6.0; wait and
# wait_timeout in 3.8.0). The exported roles pin community.docker 3.13.10, so this stub declares that
# release's documented options (names, types, choices, defaults), including the docker CLI connection
# options every module of the collection shares, so that ansible-lint's argument check validates the
# generated tasks. It never runs anything.
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: docker_compose_v2
short_description: Test stub of community.docker.docker_compose_v2 (argument spec only)
description:
  - Declares the documented options of community.docker.docker_compose_v2 3.13.x; performs no action.
options:
  project_src: {description: Directory with the Compose file., type: path}
  project_name: {description: Project name; required with definition., type: str}
  files: {description: Compose files relative to project_src., type: list, elements: path}
  definition: {description: Compose project as a dictionary., type: dict}
  env_files: {description: Environment files relative to project_src., type: list, elements: path}
  profiles: {description: Profiles to enable., type: list, elements: str}
  check_files_existing: {description: Check that a Compose file exists in project_src., type: bool, default: true}
  state: {description: Desired state of the project., type: str, default: present, choices: [absent, stopped, restarted, present]}
  pull: {description: When to pull images on up., type: str, default: policy, choices: [always, missing, never, policy]}
  build: {description: When to build images on up., type: str, default: policy, choices: [always, never, policy]}
  dependencies: {description: Include linked services., type: bool, default: true}
  recreate: {description: When to recreate containers., type: str, default: auto, choices: [always, never, auto]}
  remove_images: {description: Images to remove with state=absent., type: str, choices: [all, local]}
  remove_volumes: {description: Remove volumes with state=absent., type: bool, default: false}
  remove_orphans: {description: Remove containers of services not in the Compose file., type: bool, default: false}
  timeout: {description: Shutdown timeout in seconds., type: int}
  services: {description: Services to act on., type: list, elements: str}
  scale: {description: Service name to container count., type: dict}
  wait: {description: Pass --wait to docker compose up., type: bool, default: false}
  wait_timeout: {description: Seconds to wait with wait=true., type: int}
  docker_cli: {description: Path to the docker CLI., type: path}
  docker_host: {description: Docker daemon URL., type: str, default: unix:///var/run/docker.sock, aliases: [docker_url]}
  tls_hostname: {description: Expected TLS host name., type: str}
  api_version: {description: Docker API version., type: str, default: auto, aliases: [docker_api_version]}
  ca_path: {description: CA certificate file., type: path, aliases: [ca_cert, tls_ca_cert, cacert_path]}
  client_cert: {description: Client certificate file., type: path, aliases: [tls_client_cert, cert_path]}
  client_key: {description: Client key file., type: path, aliases: [tls_client_key, key_path]}
  tls: {description: Use TLS without verifying the daemon., type: bool, default: false}
  validate_certs: {description: Use TLS and verify the daemon., type: bool, default: false, aliases: [tls_verify]}
  cli_context: {description: Docker CLI context., type: str}
"""

from ansible.module_utils.basic import AnsibleModule

_SPEC = dict(
    project_src=dict(type="path"),
    project_name=dict(type="str"),
    files=dict(type="list", elements="path"),
    definition=dict(type="dict"),
    env_files=dict(type="list", elements="path"),
    profiles=dict(type="list", elements="str"),
    check_files_existing=dict(type="bool", default=True),
    state=dict(type="str", default="present", choices=["absent", "stopped", "restarted", "present"]),
    pull=dict(type="str", default="policy", choices=["always", "missing", "never", "policy"]),
    build=dict(type="str", default="policy", choices=["always", "never", "policy"]),
    dependencies=dict(type="bool", default=True),
    recreate=dict(type="str", default="auto", choices=["always", "never", "auto"]),
    remove_images=dict(type="str", choices=["all", "local"]),
    remove_volumes=dict(type="bool", default=False),
    remove_orphans=dict(type="bool", default=False),
    timeout=dict(type="int"),
    services=dict(type="list", elements="str"),
    scale=dict(type="dict"),
    wait=dict(type="bool", default=False),
    wait_timeout=dict(type="int"),
    docker_cli=dict(type="path"),
    docker_host=dict(type="str", default="unix:///var/run/docker.sock", aliases=["docker_url"]),
    tls_hostname=dict(type="str"),
    api_version=dict(type="str", default="auto", aliases=["docker_api_version"]),
    ca_path=dict(type="path", aliases=["ca_cert", "tls_ca_cert", "cacert_path"]),
    client_cert=dict(type="path", aliases=["tls_client_cert", "cert_path"]),
    client_key=dict(type="path", aliases=["tls_client_key", "key_path"]),
    tls=dict(type="bool", default=False),
    validate_certs=dict(type="bool", default=False, aliases=["tls_verify"]),
    cli_context=dict(type="str"),
)


def main():
    module = AnsibleModule(
        argument_spec=_SPEC,
        mutually_exclusive=[("definition", "project_src"), ("definition", "files")],
        required_one_of=[("definition", "project_src")],
        required_by={"definition": ("project_name",)},
        supports_check_mode=True,
    )
    module.fail_json(msg="test stub of community.docker.docker_compose_v2: it cannot run")


if __name__ == "__main__":
    main()
