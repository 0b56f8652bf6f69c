// Adds the backward ops' kernel templates to the codegen registry. Import once, for its effect,
// wherever backward graphs are compiled.

import { registerKernelTemplate } from "../../registry.js";
import { BACKWARD_TEMPLATES } from "./index.js";

for (const [op, template] of Object.entries(BACKWARD_TEMPLATES)) registerKernelTemplate(op, template);
