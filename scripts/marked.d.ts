/** marked 4.3 ships no types; the help build uses this one function of it. */
declare module 'marked' {
  export const marked: { parseInline(markdown: string): string };
}
