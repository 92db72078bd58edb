/** Every file of a picture lives under this folder: derivatives and 360° tiles. */
export function picturePrefix(id: string): string {
  return `pictures/${id.slice(0, 2)}/${id.slice(2, 4)}/${id}/`;
}

/** A stored derivative of a picture. */
export function pictureKey(id: string, variant: 'hd' | 'sd' | 'thumb'): string {
  return `${picturePrefix(id)}${variant}.jpg`;
}

/** A tile of a 360° picture. */
export function pictureTileKey(id: string, col: number, row: number): string {
  return `${picturePrefix(id)}tiles/${col}_${row}.jpg`;
}

/** Where an upload waits, unpublished, until it is processed (blurred when blurring is on). */
export function originalTempKey(id: string): string {
  return `tmp/originals/${id}.jpg`;
}
