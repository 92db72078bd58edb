/** Every file of a picture lives under this prefix (see src/common/picture-keys.ts). */
export function picturePrefix(id: string): string {
  return `pictures/${id.slice(0, 2)}/${id.slice(2, 4)}/${id}/`;
}

/** Where an upload waits, unpublished, until it is processed (blurred when blurring is on). */
export function originalTempKey(id: string): string {
  return `tmp/originals/${id}.jpg`;
}
