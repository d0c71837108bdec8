/**
 * Sample reference data: the seed's key industries, a realistic sample of Henan undergraduate
 * universities with some of their colleges, partner enterprises, and an expert pool. Contact addresses use
 * the reserved `.example` domain so a development setup can never mail a real office.
 */

export interface IndustrySeed {
  key: string;
  nameZh: string;
}

export const industries: IndustrySeed[] = [
  { key: 'next_gen_it', nameZh: '新一代信息技术' },
  { key: 'high_end_equipment', nameZh: '高端装备' },
  { key: 'biomedicine', nameZh: '生物医药' },
  { key: 'new_materials', nameZh: '新材料' },
  { key: 'nev_connected', nameZh: '新能源及网联汽车' },
  { key: 'energy_saving', nameZh: '节能环保' },
  { key: 'new_energy', nameZh: '新能源' },
  { key: 'modern_agriculture', nameZh: '现代农业与食品' },
  { key: 'modern_services', nameZh: '现代服务业' },
];

export interface UniversitySeed {
  id: string;
  nameZh: string;
  city: string;
  /** Colleges: [suffix, name, industry the college mainly serves]. */
  colleges: [string, string, string][];
  partners: string[];
}

export const universities: UniversitySeed[] = [
  {
    id: 'zzu',
    nameZh: '郑州大学',
    city: '郑州',
    colleges: [
      ['cs', '计算机与人工智能学院', 'next_gen_it'],
      ['mech', '机械与动力工程学院', 'high_end_equipment'],
      ['mat', '材料科学与工程学院', 'new_materials'],
    ],
    partners: ['xfusion', 'zmj', 'yutong', 'autobio'],
  },
  {
    id: 'henu',
    nameZh: '河南大学',
    city: '开封',
    colleges: [
      ['cs', '计算机与信息工程学院', 'next_gen_it'],
      ['pharm', '药学院', 'biomedicine'],
    ],
    partners: ['xfusion', 'taloph'],
  },
  {
    id: 'hpu',
    nameZh: '河南理工大学',
    city: '焦作',
    colleges: [
      ['energy', '能源科学与工程学院', 'new_energy'],
      ['mat', '材料科学与工程学院', 'new_materials'],
      ['mech', '机械与动力工程学院', 'high_end_equipment'],
    ],
    partners: ['dfd', 'henan-energy', 'zmj'],
  },
  {
    id: 'haust',
    nameZh: '河南科技大学',
    city: '洛阳',
    colleges: [
      ['vehicle', '车辆与交通工程学院', 'nev_connected'],
      ['mat', '材料科学与工程学院', 'new_materials'],
      ['agri', '农学院', 'modern_agriculture'],
    ],
    partners: ['ylt', 'citic-hic', 'cmoc'],
  },
  {
    id: 'henau',
    nameZh: '河南农业大学',
    city: '郑州',
    colleges: [
      ['food', '食品科学技术学院', 'modern_agriculture'],
      ['animal', '动物科技学院', 'modern_agriculture'],
    ],
    partners: ['muyuan', 'shuanghui', 'sanquan'],
  },
  {
    id: 'htu',
    nameZh: '河南师范大学',
    city: '新乡',
    colleges: [
      ['chem', '化学化工学院', 'new_materials'],
      ['life', '生命科学学院', 'biomedicine'],
    ],
    partners: ['xinlianxin', 'hualan'],
  },
  {
    id: 'haut',
    nameZh: '河南工业大学',
    city: '郑州',
    colleges: [
      ['grain', '粮油食品学院', 'modern_agriculture'],
      ['info', '信息科学与工程学院', 'next_gen_it'],
    ],
    partners: ['sanquan', 'haoxiangni', 'newcapec'],
  },
  {
    id: 'ncwu',
    nameZh: '华北水利水电大学',
    city: '郑州',
    colleges: [
      ['elec', '电力学院', 'new_energy'],
      ['env', '环境与市政工程学院', 'energy_saving'],
    ],
    partners: ['henan-energy', 'zhongyuan-env'],
  },
  {
    id: 'zzuli',
    nameZh: '郑州轻工业大学',
    city: '郑州',
    colleges: [
      ['food', '食品与生物工程学院', 'modern_agriculture'],
      ['cs', '计算机科学与技术学院', 'next_gen_it'],
      ['elec', '电气信息工程学院', 'new_energy'],
    ],
    partners: ['sanquan', 'hanwei', 'newcapec'],
  },
  {
    id: 'huel',
    nameZh: '河南财经政法大学',
    city: '郑州',
    colleges: [
      ['biz', '工商管理学院', 'modern_services'],
      ['econ', '经济学院', 'modern_services'],
    ],
    partners: ['henan-culture-tourism', 'henan-transport-invest'],
  },
  {
    id: 'hactcm',
    nameZh: '河南中医药大学',
    city: '郑州',
    colleges: [
      ['pharm', '药学院', 'biomedicine'],
      ['med', '医学院', 'biomedicine'],
    ],
    partners: ['taloph', 'lingrui', 'zhongjing'],
  },
  {
    id: 'xxmu',
    nameZh: '新乡医学院',
    city: '新乡',
    colleges: [
      ['pharm', '药学院', 'biomedicine'],
      ['lab', '医学检验学院', 'biomedicine'],
    ],
    partners: ['hualan', 'autobio'],
  },
  {
    id: 'xynu',
    nameZh: '信阳师范大学',
    city: '信阳',
    colleges: [
      ['cs', '计算机与信息技术学院', 'next_gen_it'],
      ['tea', '茶学院', 'modern_agriculture'],
    ],
    partners: ['lingrui', 'newcapec'],
  },
  {
    id: 'zut',
    nameZh: '中原工学院',
    city: '郑州',
    colleges: [
      ['mech', '机电学院', 'high_end_equipment'],
      ['textile', '纺织学院', 'new_materials'],
    ],
    partners: ['crtg', 'weihua'],
  },
  {
    id: 'zua',
    nameZh: '郑州航空工业管理学院',
    city: '郑州',
    colleges: [
      ['aero', '航空工程学院', 'high_end_equipment'],
      ['mgmt', '管理工程学院', 'modern_services'],
    ],
    partners: ['crtg', 'henan-transport-invest'],
  },
  {
    id: 'lynu',
    nameZh: '洛阳师范学院',
    city: '洛阳',
    colleges: [['it', '信息技术学院', 'next_gen_it']],
    partners: ['ylt', 'hanwei'],
  },
  {
    id: 'nyist',
    nameZh: '南阳理工学院',
    city: '南阳',
    colleges: [
      ['tcm', '张仲景国医国药学院', 'biomedicine'],
      ['it', '计算机与软件学院', 'next_gen_it'],
    ],
    partners: ['zhongjing', 'muyuan'],
  },
  {
    id: 'ayit',
    nameZh: '安阳工学院',
    city: '安阳',
    colleges: [
      ['aero', '飞行学院', 'high_end_equipment'],
      ['mech', '机械工程学院', 'high_end_equipment'],
    ],
    partners: ['weihua', 'senyuan'],
  },
  {
    id: 'huanghuai',
    nameZh: '黄淮学院',
    city: '驻马店',
    colleges: [
      ['it', '信息工程学院', 'next_gen_it'],
      ['arch', '建筑工程学院', 'energy_saving'],
    ],
    partners: ['newcapec', 'zhongyuan-env'],
  },
  {
    id: 'xcu',
    nameZh: '许昌学院',
    city: '许昌',
    colleges: [
      ['elec', '电气与机械工程学院', 'new_energy'],
      ['food', '食品与药学院', 'biomedicine'],
    ],
    partners: ['xj-electric', 'senyuan'],
  },
  {
    id: 'pdsu',
    nameZh: '平顶山学院',
    city: '平顶山',
    colleges: [['elec', '电气与机械工程学院', 'new_energy']],
    partners: ['pinggao'],
  },
  {
    id: 'hist',
    nameZh: '河南科技学院',
    city: '新乡',
    colleges: [
      ['life', '生命科技学院', 'modern_agriculture'],
      ['mech', '机电学院', 'high_end_equipment'],
    ],
    partners: ['weihua', 'xinlianxin'],
  },
  {
    id: 'haue',
    nameZh: '河南工程学院',
    city: '郑州',
    colleges: [
      ['textile', '纺织工程学院', 'new_materials'],
      ['mech', '机械工程学院', 'high_end_equipment'],
    ],
    partners: ['zmj', 'zhongfu'],
  },
  {
    id: 'hncj',
    nameZh: '河南城建学院',
    city: '平顶山',
    colleges: [
      ['env', '市政与环境工程学院', 'energy_saving'],
      ['elec', '电气与控制工程学院', 'new_energy'],
    ],
    partners: ['pinggao', 'zhongyuan-env'],
  },
  {
    id: 'sqnu',
    nameZh: '商丘师范学院',
    city: '商丘',
    colleges: [['it', '信息技术学院', 'next_gen_it']],
    partners: ['hanwei'],
  },
  {
    id: 'zknu',
    nameZh: '周口师范学院',
    city: '周口',
    colleges: [['life', '生命科学与农学学院', 'modern_agriculture']],
    partners: ['shuanghui'],
  },
  {
    id: 'lyit',
    nameZh: '洛阳理工学院',
    city: '洛阳',
    colleges: [
      ['mat', '材料科学与工程学院', 'new_materials'],
      ['auto', '智能制造学院', 'high_end_equipment'],
    ],
    partners: ['citic-hic', 'cmoc'],
  },
  {
    id: 'hnuahe',
    nameZh: '河南牧业经济学院',
    city: '郑州',
    colleges: [['food', '食品与生物工程学院', 'modern_agriculture']],
    partners: ['muyuan', 'shuanghui'],
  },
  {
    id: 'zzut',
    nameZh: '郑州工程技术学院',
    city: '郑州',
    colleges: [['auto', '机电与车辆工程学院', 'nev_connected']],
    partners: ['yutong', 'zhengzhou-nissan'],
  },
  {
    id: 'aynu',
    nameZh: '安阳师范学院',
    city: '安阳',
    colleges: [['cs', '计算机与信息工程学院', 'next_gen_it']],
    partners: ['xfusion'],
  },
];

export interface EnterpriseSeed {
  id: string;
  nameZh: string;
  industry: string;
  city: string;
}

export const enterprises: EnterpriseSeed[] = [
  { id: 'yutong', nameZh: '宇通客车股份有限公司', industry: 'nev_connected', city: '郑州' },
  { id: 'zhengzhou-nissan', nameZh: '郑州日产汽车有限公司', industry: 'nev_connected', city: '郑州' },
  { id: 'citic-hic', nameZh: '中信重工机械股份有限公司', industry: 'high_end_equipment', city: '洛阳' },
  { id: 'zmj', nameZh: '郑州煤矿机械集团股份有限公司', industry: 'high_end_equipment', city: '郑州' },
  { id: 'crtg', nameZh: '中铁工程装备集团有限公司', industry: 'high_end_equipment', city: '郑州' },
  { id: 'ylt', nameZh: '中国一拖集团有限公司', industry: 'high_end_equipment', city: '洛阳' },
  { id: 'weihua', nameZh: '卫华集团有限公司', industry: 'high_end_equipment', city: '新乡' },
  { id: 'xj-electric', nameZh: '许继电气股份有限公司', industry: 'new_energy', city: '许昌' },
  { id: 'pinggao', nameZh: '河南平高电气股份有限公司', industry: 'new_energy', city: '平顶山' },
  { id: 'senyuan', nameZh: '河南森源电气股份有限公司', industry: 'new_energy', city: '许昌' },
  { id: 'henan-energy', nameZh: '河南能源集团有限公司', industry: 'new_energy', city: '郑州' },
  { id: 'autobio', nameZh: '郑州安图生物工程股份有限公司', industry: 'biomedicine', city: '郑州' },
  { id: 'hualan', nameZh: '华兰生物工程股份有限公司', industry: 'biomedicine', city: '新乡' },
  { id: 'taloph', nameZh: '河南太龙药业股份有限公司', industry: 'biomedicine', city: '郑州' },
  { id: 'lingrui', nameZh: '河南羚锐制药股份有限公司', industry: 'biomedicine', city: '信阳' },
  { id: 'dfd', nameZh: '多氟多新材料股份有限公司', industry: 'new_materials', city: '焦作' },
  { id: 'cmoc', nameZh: '洛阳栾川钼业集团股份有限公司', industry: 'new_materials', city: '洛阳' },
  { id: 'zhongfu', nameZh: '河南中孚实业股份有限公司', industry: 'new_materials', city: '郑州' },
  { id: 'xinlianxin', nameZh: '河南心连心化学工业集团股份有限公司', industry: 'energy_saving', city: '新乡' },
  { id: 'zhongyuan-env', nameZh: '中原环保股份有限公司', industry: 'energy_saving', city: '郑州' },
  { id: 'xfusion', nameZh: '超聚变数字技术有限公司', industry: 'next_gen_it', city: '郑州' },
  { id: 'newcapec', nameZh: '新开普电子股份有限公司', industry: 'next_gen_it', city: '郑州' },
  { id: 'hanwei', nameZh: '汉威科技集团股份有限公司', industry: 'next_gen_it', city: '郑州' },
  { id: 'muyuan', nameZh: '牧原食品股份有限公司', industry: 'modern_agriculture', city: '南阳' },
  { id: 'shuanghui', nameZh: '河南双汇投资发展股份有限公司', industry: 'modern_agriculture', city: '漯河' },
  { id: 'sanquan', nameZh: '三全食品股份有限公司', industry: 'modern_agriculture', city: '郑州' },
  { id: 'haoxiangni', nameZh: '好想你健康食品股份有限公司', industry: 'modern_agriculture', city: '郑州' },
  { id: 'zhongjing', nameZh: '仲景食品股份有限公司', industry: 'modern_agriculture', city: '南阳' },
  { id: 'henan-culture-tourism', nameZh: '河南省文化旅游投资集团有限公司', industry: 'modern_services', city: '郑州' },
  { id: 'henan-transport-invest', nameZh: '河南交通投资集团有限公司', industry: 'modern_services', city: '郑州' },
];

export interface ExpertSeed {
  id: string;
  nameZh: string;
  email: string;
  affiliationKind: 'academic' | 'industry';
  institutionId: string | null;
  enterpriseId: string | null;
  titleZh: string;
  fields: string[];
}

const surnames =
  '王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文';
const givenNames = [
  '建国',
  '海燕',
  '志强',
  '丽华',
  '卫东',
  '晓明',
  '秀英',
  '伟',
  '敏',
  '静',
  '磊',
  '洋',
  '艳',
  '勇',
  '军',
  '杰',
  '娟',
  '涛',
  '明',
  '超',
  '霞',
  '平',
  '刚',
  '桂英',
  '红梅',
  '振华',
  '国强',
  '文博',
  '思远',
  '雪松',
];
const academicTitles = ['教授', '教授', '研究员', '副教授'];
const industryTitles = ['正高级工程师', '高级工程师', '总工程师', '高级经济师'];

/**
 * An expert pool spanning every field: per industry, four academics from universities whose colleges serve
 * it and three industry experts from enterprises in it (63 experts in all), deterministic across runs.
 */
function buildExperts(): ExpertSeed[] {
  const experts: ExpertSeed[] = [];
  let n = 0;
  const nextName = () => {
    const surname = surnames[(n * 7) % surnames.length]!;
    const given = givenNames[(n * 11) % givenNames.length]!;
    return `${surname}${given}`;
  };
  for (const industry of industries) {
    const hosts = universities.filter((u) => u.colleges.some(([, , field]) => field === industry.key));
    const employers = enterprises.filter((e) => e.industry === industry.key);
    for (let i = 0; i < 4; i++) {
      n += 1;
      const host = hosts[i % hosts.length]!;
      experts.push({
        id: `exp-${String(n).padStart(3, '0')}`,
        nameZh: nextName(),
        email: `exp-${String(n).padStart(3, '0')}@experts.ronghe.example`,
        affiliationKind: 'academic',
        institutionId: host.id,
        enterpriseId: null,
        titleZh: academicTitles[n % academicTitles.length]!,
        fields: [industry.key],
      });
    }
    for (let i = 0; i < 3; i++) {
      n += 1;
      const employer = employers[i % employers.length]!;
      experts.push({
        id: `exp-${String(n).padStart(3, '0')}`,
        nameZh: nextName(),
        email: `exp-${String(n).padStart(3, '0')}@experts.ronghe.example`,
        affiliationKind: 'industry',
        institutionId: null,
        enterpriseId: employer.id,
        titleZh: industryTitles[n % industryTitles.length]!,
        fields: [industry.key],
      });
    }
  }
  return experts;
}

export const experts: ExpertSeed[] = buildExperts();

export function universityEmail(id: string): string {
  return `jwc@${id}.edu.example`;
}

export function collegeId(universityId: string, suffix: string): string {
  return `${universityId}-${suffix}`;
}

export function collegeEmail(universityId: string, suffix: string): string {
  return `${suffix}@${universityId}.edu.example`;
}
