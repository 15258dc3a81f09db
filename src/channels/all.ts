/** Every channel type this build of the hub knows. Add a platform's `ChannelType` here. */
import { dingtalkChannel } from './dingtalk/index.ts';
import { douyinChannel } from './douyin/index.ts';
import { taobaoChannel } from './taobao/index.ts';
import { telegramChannel } from './telegram/index.ts';
import type { ChannelType } from './types.ts';
import { webChannel } from './web/index.ts';
import { wecomChannel } from './wecom/index.ts';

export const allChannelTypes: ChannelType<any>[] = [
  webChannel,
  wecomChannel,
  dingtalkChannel,
  telegramChannel,
  douyinChannel,
  taobaoChannel,
];
