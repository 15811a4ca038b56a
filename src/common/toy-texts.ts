// Default texts for the bundled toy model (words of src/core/train/toy-language.ts), shared by the renderer's
// defaults and presets and by the tests that check each default shows its workspace's phenomenon.

/**
 * The Decoding workspace's default: two companion slots "with the small [MASK]" with the same words within
 * ±4 tokens, at tokens 32 and 45 (both 26+ tokens after [CLS], one relative bucket). In the toy language only
 * absolute position decides their class: on an even token an animate noun, on an odd token a thing.
 */
export const TOY_EMD_PRESET_TEXT =
  'the old farmer sees the red ball near the river and the girl hides the box behind the table and the dog watches the cup near the house with the small [MASK] and the dog watches the cup near the house with the small [MASK] and the dog watches the old bell near the red lamp'

/** The Problem workspace's default sentence (its repeated words show the sum's effect on the same word). */
export const TOY_PROBLEM_TEXT = 'the small dog sees the small ball near the house'
