/** Text for an HTML attribute's double-quoted value, in markup written as a string (not JSX). */
export const htmlAttr = (s: string): string => s.replaceAll('&', '&amp;').replaceAll('"', '&quot;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
