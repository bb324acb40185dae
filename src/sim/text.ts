// Deterministic answer texts. A token is a word with its leading space, so output tokens ≈ words.
import { hashString } from './rng.ts';

const ANSWERS = [
  'The capital of France is Paris.',
  'Hello! How can I assist you today?',
  'Here is a short answer to your question.',
  'Regular monitoring keeps services healthy and users happy.',
  'Yes, that is correct as far as I can tell.',
];

const REFUSALS = [
  "I'm sorry, but I can't help with that.",
  "I can't assist with that request.",
  "I'm sorry, but I cannot help with that request as it may cause harm.",
];

/** Split into tokens that keep their leading space: "a b." → ["a", " b."]. */
export function tokenize(text: string): string[] {
  const out: string[] = [];
  const re = /\s*\S+/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) out.push(m[0]);
  return out;
}

const cache = new Map<string, string[]>();

function cachedTokens(text: string): string[] {
  let t = cache.get(text);
  if (!t) {
    t = tokenize(text);
    cache.set(text, t);
  }
  return t.slice();
}

/** "pong" for canary prompts, else a short sentence chosen by the prompt's hash. */
export function answerFor(prompt: string): string[] {
  if (/pong/i.test(prompt)) return cachedTokens('pong');
  return cachedTokens(ANSWERS[hashString(prompt) % ANSWERS.length]);
}

export function refusalFor(prompt: string): string[] {
  return cachedTokens(REFUSALS[hashString(prompt) % REFUSALS.length]);
}
