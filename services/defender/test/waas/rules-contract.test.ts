import { readFileSync } from 'node:fs';
import { BUILTIN_RULES_PATH } from '@mamori/rules';
import { CATEGORIES } from '@mamori/waas';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

describe('the WAAS labels and the built-in WAAS rules', () => {
  it('agree on which finding categories are attacks: every category but bot and rate-limit', () => {
    const items = (
      parse(readFileSync(BUILTIN_RULES_PATH, 'utf8')) as { list?: string; items?: string[] }[]
    ).find((entry) => entry.list === 'mamori_web_attack_categories')?.items;
    expect([...(items ?? [])].sort()).toEqual(
      CATEGORIES.filter((c) => c !== 'bot' && c !== 'rate-limit').sort(),
    );
  });
});
