#!/usr/bin/env node
// The commands that open a GPU device run in a child process with Dawn's noise filtered from its
// stderr; the others run here (cli/launcher.ts).
import { launch } from "../dist/cli/launcher.js";
await launch(import.meta.url);
