// Who is paged for an incident, and when: escalation policies. (Users and schedules will join
// them here; the pure rules of a schedule are in schedule.ts, of escalation timing in escalation.ts.)

export interface PolicyLevel {
  after_seconds: number;
  channel_ids: string[];
}

export interface PolicyRow {
  id: string;
  name: string;
  levels: PolicyLevel[];
  repeat: number;
  is_default: boolean;
  created_at: Date;
  updated_at: Date;
}

export interface NewPolicy {
  name: string;
  levels: PolicyLevel[];
  repeat: number;
  is_default: boolean;
}

export type PolicyPatch = Partial<NewPolicy>;
