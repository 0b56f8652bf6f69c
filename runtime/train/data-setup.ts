// Everything the loop needs from the data side of a TrainSpec: tokenizer, split corpus, the
// per-step sampler and the fixed validation batches.

import { isAbsolute, resolve } from "node:path";
import type { TrainSpec } from "../../format/spec.js";
import { loadCorpus, type Corpus } from "../data/corpus.js";
import { BatchSampler, validationBatches, type Batch } from "../data/sampler.js";
import { loadTokenizer, type Tokenizer } from "../data/tokenizer.js";

export interface TrainingData {
  tokenizer: Tokenizer;
  corpus: Corpus;
  sampler: BatchSampler;
  validation: Batch[];
  /** the resolved `data` setting, as recorded in checkpoints */
  source: string;
}

/** `data` paths are relative to the .arch file that names them; "brown" is the bundled corpus. */
export function resolveDataPath(data: string, baseDir: string): string {
  return data === "brown" || isAbsolute(data) ? data : resolve(baseDir, data);
}

export async function prepareTrainingData(train: TrainSpec, baseDir: string): Promise<TrainingData> {
  const tokenizer = await loadTokenizer(train.tokenizer);
  const source = resolveDataPath(train.data, baseDir);
  const corpus = loadCorpus(source, tokenizer);
  return {
    tokenizer,
    corpus,
    sampler: new BatchSampler(corpus.train, train.batch, train.seq, train.seed),
    validation: validationBatches(corpus.validation, train.batch, train.seq, train.evalBatches),
    source,
  };
}
