export function pictureKey(id: string, variant: 'hd'|'sd'|'thumb'): string { return `pictures/${id.slice(0,2)}/${id.slice(2,4)}/${id}/${variant}.jpg`; }
export function pictureTileKey(id: string, col: number, row: number): string { return `pictures/${id.slice(0,2)}/${id.slice(2,4)}/${id}/tiles/${col}_${row}.jpg`; }
