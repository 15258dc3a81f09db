/** Workflow files shared by end-to-end tests. */
export const ECHO_WORKFLOW = `name: echo
default: true
steps:
  - reply: "echo: {{ message.text }}"
`;
