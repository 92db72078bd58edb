/** MQTT credentials a pilot app gets at login. */
export interface MqttCredentials {
  host: string;
  username: string;
  password: string;
}

/**
 * Who may publish what on the broker: registers a connection's MQTT credentials (and the topics
 * of its devices) on the broker, and removes them. Provided under DRONE_MQTT_ACCESS when the
 * broker is managed by Sightline; without it the broker's own configuration decides.
 */
export interface DroneMqttAccess {
  credentialsFor(connection: { id: string; connectionId: string; workspaceId: string }, password: string): Promise<MqttCredentials>;
  revoke(connection: { id: string; connectionId: string }): Promise<void>;
}

export const DRONE_MQTT_ACCESS = Symbol('sightline:drone-mqtt-access');
