/**
 * Prompt-injection heuristics: the phrasings jailbreaks use to override instructions, change the
 * model's role, extract its system prompt, or smuggle in chat-template markup. Phrases, not topics:
 * "the previous chapter" or "what are the instructions" do not match.
 */
import { matchSpans, Span } from './span';

const ANY = '(?:all |any |the |your |my |these |those )*';
const EARLIER = '(?:previous|prior|above|earlier|preceding|initial|original|system)';
const RULES = '(?:instructions?|prompts?|rules|directions|guidelines|context|messages?)';

const PATTERNS: { type: string; pattern: RegExp }[] = [
  { type: 'override', pattern: new RegExp(`\\b(?:ignore|disregard|forget|override|bypass|skip)\\s+${ANY}${EARLIER}\\s+${RULES}\\b`, 'gi') },
  { type: 'override', pattern: new RegExp(`\\b(?:ignore|disregard|forget)\\s+(?:everything|all)\\s+(?:you were told|(?:said|written)\\s+(?:above|before))`, 'gi') },
  { type: 'override', pattern: /\bnew (?:system )?instructions\s*:/gi },
  { type: 'role-change', pattern: /\byou are (?:now )?(?:DAN|in (?:developer|god|jailbreak) mode)\b/gi },
  { type: 'role-change', pattern: /\b(?:do anything now|jailbreak(?:ed)? mode|developer mode enabled)\b/gi },
  { type: 'role-change', pattern: /\b(?:act|behave|respond) as (?:if you (?:were|are) )?(?:an? )?(?:unrestricted|unfiltered|uncensored)\b/gi },
  { type: 'role-change', pattern: /\bwithout (?:any )?(?:restrictions|filters|censorship|safety guidelines)\b/gi },
  { type: 'prompt-leak', pattern: /\b(?:reveal|print|show|repeat|output|tell me)\s+(?:me\s+)?(?:your|the)\s+(?:system\s+prompt|hidden\s+instructions|initial\s+instructions|original\s+instructions)\b/gi },
  { type: 'template-markup', pattern: /<\|(?:im_start|im_end|system|begin_of_text|start_header_id|eot_id)\|>|\[\/?INST\]|<<\/?SYS>>/g },
  { type: 'template-markup', pattern: /(?:^|\n)\s*(?:###\s*)?(?:system|assistant)\s*:\s/gi },
];

export function detectInjection(text: string): Span[] {
  return PATTERNS.flatMap(({ type, pattern }) => matchSpans(text, pattern, type)).sort((a, b) => a.start - b.start);
}
