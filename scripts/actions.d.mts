/** An action of this repository: its entry's name (`dist/<name>.js`) and its action.yml. */
export interface ActionFile {
  name: string;
  file: string;
}

/** Every action of the repository at `root`, the root action.yml first. */
export function listActions(root: string): Promise<ActionFile[]>;
