// Turns one Brown corpus file (Form C: "word/tag" tokens, one sentence per line, paragraphs
// separated by blank lines) into ordinary running text.

/** Tokens written against the word before them: no space in front. */
const CLOSING = new Set([".", ",", ";", ":", "!", "?", ")", "]", "}", "''", "'", "%"]);
/** Tokens written against the word after them: no space behind. */
const OPENING = new Set(["``", "(", "[", "{", "$"]);

function surfaceForm(token: string): string {
  // the last slash separates the tag; words such as "1/2/cd" keep their inner slashes
  const slash = token.lastIndexOf("/");
  const word = slash > 0 ? token.slice(0, slash) : token;
  if (word === "``" || word === "''") return '"';
  return word;
}

function wordOf(token: string): string {
  const slash = token.lastIndexOf("/");
  return slash > 0 ? token.slice(0, slash) : token;
}

/** Joins one sentence's tokens with the spacing a typesetter would use. */
export function joinSentence(tokens: readonly string[]): string {
  let out = "";
  let glueNext = true; // nothing before the first word
  let singleQuoteOpen = false;
  for (const token of tokens) {
    const word = wordOf(token);
    let glueToPrevious = CLOSING.has(word);
    let opens = OPENING.has(word);
    if (word === "'") {
      // a lone single quote opens when none is open and closes otherwise
      opens = !singleQuoteOpen;
      glueToPrevious = singleQuoteOpen;
      singleQuoteOpen = !singleQuoteOpen;
    }
    if (!(glueNext || glueToPrevious) && out.length > 0) out += " ";
    out += surfaceForm(token);
    glueNext = opens;
  }
  return out;
}

/** A whole file: sentences of a paragraph joined by spaces, paragraphs by newlines. */
export function brownFileToText(tagged: string): string {
  const paragraphs: string[] = [];
  for (const block of tagged.split(/\n[ \t]*\n/)) {
    const sentences = block
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line.length > 0)
      .map((line) => joinSentence(line.split(/\s+/)));
    if (sentences.length > 0) paragraphs.push(sentences.join(" "));
  }
  return paragraphs.join("\n");
}
