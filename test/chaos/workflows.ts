/** Workflows of the chaos tests. */
export const ECHO = `name: echo
default: true
steps:
  - reply: "echo: {{ message.text }}"
`;

export const echoed = (text: string) => `echo: ${text}`;
