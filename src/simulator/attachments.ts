// Comment attachments in the shape of the fixture: images with sizes and thumbnails, plain
// files without, every id unique across the account, now and then one already deleted.
import { attachmentId, hexToken } from './ids.ts';
import type { Rng } from './random.ts';
import type { EventAttachment } from './types.ts';

const HOST = 'https://convlog-sim.zendesk.com';

const FILES = [
  { name: 'screenshot.png', type: 'image/png', image: true },
  { name: 'photo.jpg', type: 'image/jpeg', image: true },
  { name: 'damaged box.jpeg', type: 'image/jpeg', image: true },
  { name: 'invoice-2025.pdf', type: 'application/pdf', image: false },
  { name: 'console.log', type: 'text/plain', image: false },
  { name: 'orders.csv', type: 'text/csv', image: false },
];

function attachment(rng: Rng, id: number, fileName: string, contentType: string, size: number, dims?: { width: number; height: number }, thumbnails?: EventAttachment[]): EventAttachment {
  const token = hexToken(rng.int(0, 2 ** 31), 25);
  const name = encodeURIComponent(fileName);
  return {
    content_type: contentType,
    content_url: `${HOST}/attachments/token/${token}/?name=${name}`,
    deleted: false,
    file_name: fileName,
    ...(dims ? { height: dims.height } : {}),
    id,
    inline: false,
    mapped_content_url: `${HOST}/attachments/token/${token}/?name=${name}`,
    size,
    ...(thumbnails ? { thumbnails } : {}),
    url: `${HOST}/api/v2/attachments/${id}.json`,
    ...(dims ? { width: dims.width } : {}),
  };
}

/** 1 to 3 attachments; images get 0 to 3 thumbnails. Uses slots 0..31 of the event's id range. */
export function makeAttachments(rng: Rng, ticketId: number, index: number): EventAttachment[] {
  const count = rng.int(1, 3);
  const out: EventAttachment[] = [];
  let slot = 0;
  for (let i = 0; i < count; i++) {
    const file = rng.pick(FILES);
    const id = attachmentId(ticketId, index, slot++);
    if (!file.image) {
      out.push(attachment(rng, id, file.name, file.type, rng.int(300, 4_000_000), undefined, []));
      continue;
    }
    const width = rng.int(200, 2400);
    const height = rng.int(200, 1800);
    const thumbs = Array.from({ length: rng.int(0, 3) }, (_, t) => {
      const side = [80, 160, 320][t];
      const thumbName = file.name.replace(/(\.\w+)$/, `_thumb${t ? `_${side}` : ''}$1`);
      return attachment(rng, attachmentId(ticketId, index, slot++), thumbName, file.type, rng.int(2_000, 30_000), { width: side, height: Math.round((side * height) / width) });
    });
    out.push(attachment(rng, id, file.name, file.type, rng.int(10_000, 6_000_000), { width, height }, thumbs));
  }
  // An agent sometimes deletes an attachment after the fact (the redaction app does this).
  if (rng.chance(0.12)) out[rng.int(0, out.length - 1)].deleted = true;
  return out;
}
