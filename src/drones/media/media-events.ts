/** A media file arrived in a workspace (published to live listeners as `media_arrived`, the drones' event vocabulary). */
export interface DroneMediaEvent {
  type: 'media_arrived';
  workspaceId: string;
  mediaId: string;
  flightId: string | null;
  deviceSn: string | null;
  kind: 'photo' | 'video' | 'other';
  name: string;
  status: string;
  at: string;
}

/** Where media events go: the drones' live event stream when it is there. */
export interface DroneMediaEventSink {
  publishMedia(event: DroneMediaEvent): void | Promise<void>;
}

export const DRONE_MEDIA_EVENTS = Symbol('sightline:drone-media-events');
